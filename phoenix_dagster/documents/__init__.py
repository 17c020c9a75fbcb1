"""What applications read: MongoDB documents built from the marts."""
