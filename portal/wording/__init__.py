"""The sentences that word the campaign's refusals and decisions in the reader's language, and dates, months and money as each language writes them."""
