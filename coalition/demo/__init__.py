"""The demo coalition: the IT Coalition for Ukraine, from the public reports (see data.py)."""

from coalition.demo.loader import load_demo

__all__ = ["load_demo"]
