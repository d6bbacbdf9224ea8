"""The mediators’ space: accounts, editing one’s listing, moderation, history."""
