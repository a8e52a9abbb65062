"""The takedown tests' own simulated internet (see trouble_world)."""

from tests.takedown.trouble_world import on_trouble_net, trouble_net

__all__ = ["on_trouble_net", "trouble_net"]
