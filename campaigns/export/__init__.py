"""Finishing a campaign: the labels CSV, AutoML JSONL/MLTable, COCO and Azure ML registration."""
