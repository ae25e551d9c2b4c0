"""Compressed responses, fingerprinted static files cached for a year, the offline page."""

import gzip
import re

import brotli


def test_static_files_are_fingerprinted_precompressed_and_immutable(client):
    page = client.get("/join").get_data(as_text=True)
    css = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{12})"', page).group(1)
    plain = client.get(css)
    assert "immutable" in plain.headers["Cache-Control"] and "max-age=31536000" in plain.headers["Cache-Control"]
    packed = client.get(css, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["Content-Encoding"] == "br" and brotli.decompress(packed.data) == plain.data
    zipped = client.get(css, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.data) == plain.data
    assert len(packed.data) < len(plain.data) / 2
    # An old or missing hash is served but must be checked again; the ETag saves the download.
    stale = client.get("/static/css/app.css?v=000000000000")
    assert stale.headers["Cache-Control"] == "no-cache" and stale.data == plain.data
    assert client.get("/static/css/app.css", headers={"If-None-Match": stale.headers["ETag"]}).status_code == 304
    assert client.get("/static/nothing.js").status_code == 404
    # The vendored Socket.IO client (static/vendor may be a symlink) is served, compressed.
    vendor = client.get("/static/vendor/socket.io.min.js", headers={"Accept-Encoding": "gzip"})
    assert vendor.status_code == 200 and vendor.headers["Content-Encoding"] == "gzip"


def test_pages_are_compressed(client):
    page = client.get("/join", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    assert "<html" in gzip.decompress(page.data).decode()
    assert "Accept-Encoding" in page.headers["Vary"]


def test_offline_page_and_service_worker(client):
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert "再接続中" in client.get("/offline?catalog=ja").get_data(as_text=True)
    assert "Reconnecting" in client.get("/offline?catalog=en").get_data(as_text=True)
    assert "<ruby>" in client.get("/offline?catalog=plain").get_data(as_text=True)
    # The offline page for one language does not change the visitor's choice.
    assert '<html lang="ja">' in client.get("/join").get_data(as_text=True)


def test_scripts_and_stylesheets_carry_only_the_headers_that_act_on_them(client):
    page = client.get("/join")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    for url in re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js)\?v=[0-9a-f]{12})"', page.get_data(as_text=True)):
        response = client.get(url, headers={"Accept-Encoding": "br"})
        assert response.status_code == 200 and response.headers["X-Content-Type-Options"] == "nosniff", url
        assert not {"Content-Security-Policy", "X-Frame-Options", "Permissions-Policy"} & set(response.headers.keys()), url
    worker = client.get("/sw.js")  # a worker's own policy governs what it may fetch
    assert "connect-src 'self'" in worker.headers["Content-Security-Policy"]
