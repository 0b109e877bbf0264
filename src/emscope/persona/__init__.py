"""Persona vectors and training-time monitoring (extraction, steering, screening, EM-onset alarm)."""

from emscope.models.steering import ablation, steering
from emscope.models.vectors import PersonaVector, VectorMeta, load_vector, save_vector
from emscope.persona.alarm import AlarmConfig, OnsetDetector
from emscope.persona.extract import extract_to_file, extract_vector
from emscope.persona.monitor import PersonaMonitor, persona_monitor
from emscope.persona.screen import ScreenReport, screen
from emscope.persona.traits import get_trait, load_traits

__all__ = ["AlarmConfig", "OnsetDetector", "PersonaMonitor", "PersonaVector", "ScreenReport", "VectorMeta",
           "ablation", "extract_to_file", "extract_vector", "get_trait", "load_traits", "load_vector",
           "persona_monitor", "save_vector", "screen", "steering"]
