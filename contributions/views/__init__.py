"""Web views of the contributions app: pledges (pledges.py), priority purchases (priorities.py)."""
