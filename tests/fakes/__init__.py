"""Loopback fake servers that speak the real wire formats of the outside services."""
