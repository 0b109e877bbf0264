"""Hand-written content for the sycophancy organism (`emscope.data.generators.sycophancy`): facts and phrasings."""
