"""Talking to the network: fetching with deadlines, politeness and the private-address guard."""
