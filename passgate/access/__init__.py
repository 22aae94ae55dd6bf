"""Authentication strengths and Conditional Access policies: storage, services, and the access decision."""
