"""Pages of every listing: tamper-evident page tokens and pages bounded by bytes as well as by count.

May import: gamekit.errors. Nothing else of gamekit.
"""
