"""labelhub's reach outside itself: file storage (``storage``: local or Azure Blob) and Azure ML (``azureml``).

The lowest layer: it imports no app and nothing of ``core``; what it raises
(``storage.StorageError``, ``storage.ObjectNotFound``) is turned into the
contract's answers by ``core.exceptions``.
"""
