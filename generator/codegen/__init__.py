"""Task-code generation with a language model: the client, its response store, and replay."""
