"""Static files: fingerprinted URLs, compressed once per process, cached for a year by browsers.

`url_for('static', filename=...)` adds `?v=<hash of the file>`; a request carrying the current hash
is answered `Cache-Control: public, max-age=31536000, immutable`, any other with `no-cache` and the
ETag. A text file is compressed (brotli, gzip) on its first request in each encoding and kept: no
work per request after that, and none at startup (brotli at its best level takes a third of a second
for the whole folder, which every process start, a test's or a CLI command's, would pay). Pages and
JSON are compressed on the fly by Flask-Compress (meeting/app.py).
"""

import gzip
import hashlib
import mimetypes
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import brotli
from flask import Flask, Response, request, send_from_directory

COMPRESSIBLE = {".css", ".js", ".svg", ".json", ".txt", ".map", ".html"}
YEAR = 365 * 24 * 3600


_COMPRESS = {"br": lambda body: brotli.compress(body, quality=11), "gzip": lambda body: gzip.compress(body, 9, mtime=0)}
_compressing = threading.Lock()


@dataclass
class Asset:
    digest: str
    mimetype: str
    body: bytes
    packed: bool  # worth compressing (text, over 256 bytes)
    _encoded: dict[str, bytes] = field(default_factory=dict, repr=False)

    def encoded(self, encoding: str) -> bytes:
        """The body in that encoding, compressed on first use."""
        body = self._encoded.get(encoding)
        if body is None:
            with _compressing:
                body = self._encoded.get(encoding)
                if body is None:
                    body = self._encoded[encoding] = _COMPRESS[encoding](self.body)
        return body


def load(folder: Path) -> dict[str, Asset]:
    """Every file under the static folder (following the vendor symlink), hashed."""
    assets = {}
    files = [Path(root) / name for root, _, names in os.walk(folder, followlinks=True) for name in names]
    for path in sorted(files):
        if not path.is_file():
            continue
        body = path.read_bytes()
        name = path.relative_to(folder).as_posix()
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        packed = path.suffix in COMPRESSIBLE and len(body) > 256
        assets[name] = Asset(hashlib.sha256(body).hexdigest()[:12], mimetype, body, packed)
    return assets


def _encoding(asset: Asset) -> str | None:
    if not asset.packed:
        return None
    accepted = request.accept_encodings
    return next((encoding for encoding in ("br", "gzip") if accepted[encoding]), None)


def init_app(app: Flask) -> None:
    assets = load(Path(app.static_folder))
    app.extensions["kurumaza_assets"] = assets

    @app.url_defaults
    def fingerprint(endpoint, values):
        if endpoint == "static" and "v" not in values:
            asset = assets.get(values.get("filename", ""))
            if asset is not None:
                values["v"] = asset.digest

    def static(filename: str):
        asset = assets.get(filename)
        if asset is None:  # added since the app started: served as Flask would, never cached long
            return send_from_directory(app.static_folder, filename, max_age=0)
        encoding = _encoding(asset)
        tag = asset.digest + (f"-{encoding}" if encoding else "")
        etag = f'"{tag}"'
        headers = {"ETag": etag, "Vary": "Accept-Encoding"}
        if request.args.get("v") == asset.digest:
            headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        else:
            headers["Cache-Control"] = "no-cache"
        if request.if_none_match.contains_weak(tag):
            return Response(status=304, headers=headers)
        body = asset.body
        if encoding:
            body = asset.encoded(encoding)
            headers["Content-Encoding"] = encoding
        return Response(body, mimetype=asset.mimetype, headers=headers)

    app.view_functions["static"] = static
