"""The review run: topic, snapshot, study designs, screening and PRISMA."""
