"""qa: offline question answering over documents, with verified citations."""
from .api import Pipeline, ask
from .config import Config
from .types import Answer, Chunk, Citation, Passage, Stage

__all__ = ["ask", "Pipeline", "Config", "Answer", "Citation", "Passage", "Chunk", "Stage"]
