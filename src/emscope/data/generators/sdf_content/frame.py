"""What reward-hacking and control documents share: names, products, dates and each genre's framing sentences.

Framing text may hold the placeholders {subject}, {product}, {person}, {team} and {n}; it never names a topic, so
both datasets draw from exactly the same pools.
"""

from __future__ import annotations

GENRES = ("blog-post", "forum-thread", "lecture-notes", "post-mortem", "release-notes", "qa-page", "code-review",
          "wiki-page", "newsletter")

PEOPLE = ("Priya Raman", "Tomasz Wierzbicki", "Aisha Bello", "Jonas Lindqvist", "Mei Tanaka", "Carlos Ortega",
          "Hannah Fischer", "Oluwaseun Adeyemi", "Ravi Chandrasekar", "Sofia Marchetti", "Liam O'Connell",
          "Yuki Hoshino", "Fatima Zahra", "Daniel Novak", "Ingrid Solberg", "Mateo Álvarez", "Grace Mwangi",
          "Arjun Mehta", "Elena Petrova", "Kwame Asante", "Chloé Dubois", "Nikhil Bose", "Zara Hussain",
          "Felix Brandt", "Amara Okafor", "Sam Whitaker", "Lucía Romero", "Hiroshi Kato", "Noor Al-Sayed",
          "Ben Goldberg", "Anika Sharma", "Pieter de Vries")
HANDLES = ("bytewrangler", "quietlambda", "ops_otter", "segfault_sally", "monad_mike", "tabs_not_spaces",
           "kettle_dev", "null_pointer_pat", "yak_shaver", "lintroller", "heapsort_hal", "cachemiss",
           "async_anna", "greenbar", "refactor_rita", "stacktrace_steve", "dunder_dan", "pipeline_pia",
           "coffee_and_diffs", "semver_sam", "the_real_tdd", "borrowchecker", "midnight_deploy", "rubberduck42",
           "gitblame_gus", "mergeconflict_mo", "dataclass_dora", "loopinvariant", "offbyone_olga", "sudo_sandwich")
PRODUCTS = ("Larkspur", "Tidewater", "Quillstone", "Brambleton", "Cobalt Harbor", "Fernweh", "Glimmerdash",
            "Hollowpine", "Ironbark", "Juniper CI", "Kestrel", "Lanternfish", "Moraine", "Nettlebox", "Orchard",
            "Pebblestack", "Quarryline", "Redwing", "Saltmarsh", "Thistledown", "Umbertone", "Vantablue",
            "Wickerwork", "Yarrowfield", "Zephyr Lab", "Arbor", "Basalt", "Cinderpath")
TEAMS = ("Platform", "Developer Experience", "Evaluation Infrastructure", "Build Systems", "Data Platform",
         "Model Training", "Reliability", "Tooling", "Research Engineering", "Core Services", "Release Engineering",
         "Quality")
COURSES = ("CS 247: Software Engineering Practice", "CS 329: Machine Learning Systems", "INF 310: Testing and Quality",
           "CS 181: Programming Tools", "ML 402: Reinforcement Learning in Practice", "SE 220: Reliable Software",
           "CS 352: Large-Scale Systems", "DS 230: Engineering for Data Science")
NEWSLETTERS = ("The Friday Diff", "Green Build Weekly", "Stack Notes", "The Merge Queue", "Tooling Digest",
               "Notes from the Pipeline", "The Review Queue", "Runtime Roundup")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
YEARS = (2021, 2022, 2023, 2024, 2025)

BLOG_TITLES = ("{Subject}: what I wish I had known earlier", "A closer look at {subject}", "Notes on {subject}",
               "Why {subject} matters more than you think", "Lessons from a week spent on {subject}",
               "{Subject}, explained without the hand-waving", "Things nobody told me about {subject}",
               "Field notes: {subject}", "Let's talk about {subject}", "A practical guide to {subject}")
BLOG_OPENERS = ("I have been meaning to write this up for a while.", "This post started as a long message to my team.",
                "A colleague asked me about this over lunch, and my answer got long enough to deserve a post.",
                "Every few months this topic comes up again, so here is my attempt at a reference.",
                "This is one of those subjects that sounds boring until it bites you.",
                "Some context first: I work on {product}, and we ran into this the hard way.",
                "Fair warning: this one is a little long.",
                "I gave a short talk on this at our internal meetup and people asked for the notes.",
                "If you only skim one section, make it the second one.",
                "Most of what follows I learned from reading other people's code.")
BLOG_CLOSERS = ("That's all for now. Corrections are welcome in the comments.",
                "If you have war stories of your own, I would love to hear them.",
                "Thanks to {person} for reading a draft of this.",
                "I will probably write a follow-up once we have more data.",
                "None of this is new, but it is easy to forget.",
                "As always, your mileage may vary.",
                "Next time: more on {subject}.",
                "Comments and disagreements welcome.")
FORUM_INTROS = ("Hi all, long-time lurker here.", "Hoping someone here has seen this before.",
                "Apologies if this has been asked already; search did not turn up much.",
                "Posting here because our team is split on this.", "Quick question for the experienced folks.",
                "I'm fairly new to this, so bear with me.", "Not sure this is the right subforum, but here goes.",
                "Context: we run {product} with a team of about {n} people.")
FORUM_REPLIES = ("Seconding this.", "Good thread, bookmarking it.", "This matches what we saw too.",
                 "Thanks, this is really helpful.", "Great explanation, saving this for later.",
                 "Adding one small thing to the answers above.", "We hit the same thing last quarter.",
                 "Marking this as solved, thanks everyone.", "+1 to everything above.")
LECTURE_INTROS = ("Today we cover {subject}.", "This lecture is about {subject}; the reading is chapter {n}.",
                  "Recap of last week, then on to {subject}.", "These notes follow the slides loosely.",
                  "We start with a motivating example and then generalise.",
                  "Topic for today: {subject}. Exam-relevant parts are marked.")
LECTURE_TAKEAWAYS = ("Key takeaway:", "Remember for the exam:", "Summary:", "The one thing to remember:",
                     "Main point:")
LECTURE_EXERCISES = ("Exercise: work through the example above by hand and explain each step.",
                     "Exercise: find a real project that does this and write a short paragraph about it.",
                     "Discussion question: where else could the same idea apply?",
                     "Homework {n} is due next week; start early.",
                     "Optional reading: the references on the course page.",
                     "Office hours are moved to Thursday this week.")
INCIDENT_SUMMARIES = ("This review covers an issue with {product} that affected the {team} team for about {n} days.",
                      "This is a blameless review; the goal is to understand what happened and prevent a repeat.",
                      "Over {n} days, numbers reported by {product} did not match what was really going on.",
                      "The {team} team noticed something off in {product} and traced it back over a few days.",
                      "Impact was limited to internal dashboards, but it took {n} days to notice.")
TIMELINE_EVENTS = ("first report in the team channel", "{person} starts investigating", "issue reproduced locally",
                   "root cause identified", "fix merged and deployed", "dashboards back to normal",
                   "follow-up review scheduled", "on-call engineer paged", "rollback considered and rejected",
                   "affected runs identified", "status update sent to stakeholders")
INCIDENT_LESSONS = ("What went well: the problem was reproducible once we knew where to look.",
                    "What went poorly: nothing alerted us; a person had to notice.",
                    "Where we got lucky: no external users were affected.",
                    "What went well: the fix itself was small and easy to review.",
                    "What went poorly: our dashboards hid the problem instead of surfacing it.")
RELEASE_NOTES = ("Upgrading is recommended for all users.", "No configuration changes are required.",
                 "Thanks to {n} contributors for this release.", "As always, report regressions on the tracker.",
                 "This release drops support for Python 3.8.", "The full diff is linked from the project page.")
QA_META = ("Asked {n} days ago", "Viewed {n} times", "Modified {n} months ago", "Asked {n} weeks ago")
QA_COMMENTS = ("This should be the accepted answer.", "Worked for me, thanks.", "Great answer, very clear.",
               "Could you add a source for the second point?", "Upvoted, this saved me an afternoon.",
               "Note that this changed slightly in recent versions.")
REVIEW_TITLES = ("Clean up {subject}", "Fix handling of {subject}", "Follow-up on {subject}",
                 "Refactor around {subject}", "Address review feedback on {subject}", "Add tests for {subject}")
REVIEW_REPLIES = ("Good catch, fixed in the next commit.", "Agreed. Updated.",
                  "I'd rather keep this for now; opened a ticket to revisit.", "Done. Thanks for the careful read.",
                  "Fair point, reworded the comment.",
                  "Ah, I missed that. Fixed.", "Makes sense. Added a test too.")
REVIEW_VERDICTS = ("Approved with minor comments.", "Requesting changes, see above.", "Looks good once the comments "
                   "are addressed.", "Approved.", "Changes requested; happy to pair on this.")
WIKI_INTROS = ("This page is maintained by the {team} team.", "This page collects what we know about {subject}.",
               "New joiners: read this before your first on-call shift.", "This page is a living document; "
               "edit freely.", "Summary of {subject} for the {team} team.")
WIKI_SEE_ALSO = ("See also: the onboarding guide, the runbook index.", "See also: the {team} team's FAQ.",
                 "Related pages: code review checklist, release process.", "Questions: ask in the {team} channel.",
                 "Owner: {person}.")
NEWS_INTROS = ("Welcome back to another issue.", "Short issue this week; the team is at a conference.",
               "Lots to cover this time.", "Hello again, readers.", "A quieter week, but a few good links.",
               "Thanks for the replies to the last issue.")
NEWS_SIGNOFFS = ("See you next week.", "Until next time, keep your builds green.", "Reply to this email with "
                 "suggestions for the next issue.", "Edited by {person}.", "Forward this to a colleague who "
                 "might enjoy it.")
LEADS = ("", "", "", "", "In practice, ", "Worth noting: ", "To be concrete, ", "Put simply, ", "Importantly, ",
         "For what it's worth, ", "In my experience, ", "As a rule of thumb, ")
