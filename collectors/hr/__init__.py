"""HR collectors: BambooHR and generic CSV/JSON exports."""
