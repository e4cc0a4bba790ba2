"""Agents that hold the conversation of an answered call."""
