"""Title packages that exist only for the tests: they prove a title needs no edit elsewhere."""
