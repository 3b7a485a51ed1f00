"""The demo coalition: the IT Coalition for Ukraine, from the public reports (see data.py). It sits
above every domain app (it writes through all their services), like config/."""
