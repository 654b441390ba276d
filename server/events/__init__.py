"""The council's own events (講座, 交流会, フォーラム): staff make them, anyone applies on
the public page, staff mark attendance per part at the door and print the 修了証."""
