"""gamectl: the human CLI of the games platform (local suite, dev certificates, queries)."""
