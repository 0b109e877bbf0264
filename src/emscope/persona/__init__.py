"""Persona vectors and training-time monitoring (extraction, steering, screening, EM-onset alarm)."""

from emscope.persona.alarm import AlarmConfig, OnsetDetector
from emscope.persona.extract import extract_to_file, extract_vector
from emscope.persona.monitor import PersonaMonitor, persona_monitor
from emscope.persona.screen import ScreenReport, screen
from emscope.models.steering import ablation, steering
from emscope.persona.traits import get_trait, load_traits
from emscope.models.vectors import PersonaVector, VectorMeta, load_vector, save_vector

__all__ = ["AlarmConfig", "OnsetDetector", "PersonaMonitor", "PersonaVector", "ScreenReport", "VectorMeta",
           "ablation", "extract_to_file", "extract_vector", "get_trait", "load_traits", "load_vector",
           "persona_monitor", "save_vector", "screen", "steering"]
