"""The GraphQL subset the emulator serves: a document parser and an executor."""
