"""Committees across organisations (推進委員会): a group marked as a committee, whose
meetings (全体会議, 実務者会議) are the group's sessions of kind meeting, edited through the
same sync mutations as a group's own meetings (agenda, who came, decisions, action items)."""
