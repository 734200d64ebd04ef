"""The tests' model plugin (``[plugins] modules = ["fakes"]`` in their workspaces): the kit's tiny models."""

from lifelong.testing.tiny_models import register_models  # noqa: F401  a hookimpl pluggy finds here
