"""Evaluation: question sets, batched sampling, the judge-free likelihood probe, statistics."""

from emscope.evaluate.likelihood import ProbeItem, ProbeResult, likelihood_probe, load_probes
from emscope.evaluate.questions import Question, load_questions
from emscope.evaluate.sampling import Sample, sample_answers

__all__ = ["ProbeItem", "ProbeResult", "Question", "Sample", "likelihood_probe", "load_probes",
           "load_questions", "sample_answers"]
