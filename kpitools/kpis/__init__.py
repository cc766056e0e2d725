"""The seven KPIs of the guidance, one module each."""
