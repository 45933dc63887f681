"""The processing pipeline of a submission, declared once as a table of stages
(``stages.py``), run by the in-process runner here and by the Celery workers alike."""
