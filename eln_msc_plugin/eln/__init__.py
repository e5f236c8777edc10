"""The ELN adapter layer: one HTTP policy for every ELN client, and the clients themselves."""
