"""Lesson: a guided path through the ideas behind a VAE, one live view and one predict-then-reveal question
per step, deep-linkable with ?step=N (steps and texts: explorer_ui/lesson_steps.py)."""

from explorer_ui.lesson_views import render_lesson

render_lesson()
