"""Listing-text enrichment with a local model through Ollama: the facts schema the model must
answer in, the prompt, the client, validation of what it says, and the reply cache."""
