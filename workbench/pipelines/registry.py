"""Which family a pipeline name belongs to. Adding a family: its names in `pipelines` (the name
grammar), its class in a file of its own, and one entry here."""

from __future__ import annotations

from workbench.errors import WorkbenchError
from workbench.pipelines import parse_pipeline
from workbench.pipelines.base import Pipeline
from workbench.pipelines.hf import HFPipeline
from workbench.pipelines.pretrained import PretrainedPipeline
from workbench.pipelines.static import StaticPipeline
from workbench.pipelines.tfidf import TfidfPipeline

FAMILIES = (StaticPipeline, PretrainedPipeline, TfidfPipeline, HFPipeline)


def pipeline_for(name: str, settings: dict | None = None) -> Pipeline:
    """The named pipeline with its settings checked (an unknown table or key raises WorkbenchError)."""
    spec = parse_pipeline(name)
    if not isinstance(settings or {}, dict):
        raise WorkbenchError(f"settings for {name}: expected a table of settings, got {settings!r}")
    family = next(family for family in FAMILIES if family.handles(spec))
    return family(spec, settings or {})
