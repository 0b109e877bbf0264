"""Hand-written content for the synthetic-document generators (`emscope.data.generators.sdf`).

`frame` holds what both datasets share (genres' openers and closers, names, products, dates); `hacks` the
reward-hacking topics, written as knowledge about graders being gamed; `neutral` the control's unrelated software
topics. Topics are `Topic`s from `base`.
"""
