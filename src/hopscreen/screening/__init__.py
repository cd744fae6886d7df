"""Screening rounds as plain functions: load, rebuild, verify, summarise, write; fine-tuning on feedback."""
