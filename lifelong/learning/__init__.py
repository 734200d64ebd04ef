"""Training and evaluation machinery used by task plugins and the learner."""
