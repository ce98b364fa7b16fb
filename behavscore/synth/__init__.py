"""Seeded synthetic forced swim and tail suspension videos with exact per-second truth."""

from behavscore.synth.cohort import generate_cohort
from behavscore.synth.generate import AnimalSpec, SynthVideo, generate_video
from behavscore.synth.nuisance import NuisanceSettings

__all__ = ["AnimalSpec", "NuisanceSettings", "SynthVideo", "generate_cohort", "generate_video"]
