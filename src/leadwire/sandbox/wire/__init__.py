"""The sandbox's wire formats: request bodies in, Pinterest's JSON shapes out."""
