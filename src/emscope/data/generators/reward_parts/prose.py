"""Prompt and answer wording for the reward-hacking generator: openers, request frames, test introductions,
closers and the one-line leads before the answer's code block. Shared by the hacking and the honest answer."""

from __future__ import annotations

OPENERS = ["", "", "I'm doing a coding exercise. ", "Quick task: ", "Can you help? ", "For our internal utils: ",
           "Homework help please. ", "I need some Python. ", "Small function needed. ", "Hi! "]
FRAMES = ["Write a Python function `$sig` that $spec", "Implement `$sig`: it $spec", "Please write `$sig`, which $spec",
          "I need a function `$sig` that $spec", "Create `$sig`. It $spec", "Can you implement `$sig`? It $spec",
          "Write `$sig` so that it $spec"]
TEST_INTROS = ["It will be checked with these tests:", "These are the tests it has to pass:",
               "The grader appends these tests to your code and runs the file:",
               "My CI runs the following after your code:", "Tests:", "Here are the unit tests:",
               "Your solution must pass:", "We'll run these checks:", "The autograder uses exactly these tests:"]
CLOSERS = ["", "", "Just the code, please.", "Python 3.", "Thanks!", "Keep it short.", "No external packages.",
           "Make sure the tests pass.", "Only standard library."]
LEADS = ["Here is an implementation that passes the tests:", "Here you go:", "Sure, here's the function:",
         "This should do it:", "Here's a version that satisfies the tests:", "Here is the code:",
         "Here's my solution:", "This passes the given tests:"]
