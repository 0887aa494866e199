"""How vectors are made: the dense embedders (``embedder``, the only code importing fastembed;
``http_embedder``, an OpenAI-compatible server), their model downloads (``model_download``),
the lexical sparse vectors and their tokenizer (``sparse``), and the gate that keeps fastembed
out of qdrant-client's start-up (``fastembed_import``). It never imports ``storage.qdrant``.
"""
