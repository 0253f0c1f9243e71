"""Project tools that need a container engine: `make images` (tools.images) and `make pods` (tools.pods)."""
