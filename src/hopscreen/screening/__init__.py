"""Screening rounds as plain functions: load, predict, verify, summarise, write; fine-tuning."""
