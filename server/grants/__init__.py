"""Grant programmes (助成) and what a group is due under them."""
