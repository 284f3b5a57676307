"""Which models the demo offers (`catalog`: the pairs, listed once) and the store that loads each once
(`store`)."""
