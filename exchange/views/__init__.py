"""Read-only views for the regional task force and for UNHCR users: the state x quarter
coverage matrix, and annual figures in the shape of UNHCR's Refugee Data Finder."""
