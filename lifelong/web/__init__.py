"""What ``lifelong serve`` adds to the agent: the OpenAI request shapes and error bodies, and
the operator's dashboard at /ui."""
