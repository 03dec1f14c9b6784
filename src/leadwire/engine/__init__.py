"""The engine: flows, connections and their durable execution."""
