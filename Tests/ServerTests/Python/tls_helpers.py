"""Certificate helpers shared by the TLS tests: renewing a node's certificate in place (as a renewal tool
does) and reading the certificate a TLS server presents."""
import os
import socket
import ssl
import subprocess


def renew(certs, name, scratch):
    """A new key and certificate for `name` from the CA in `certs`, swapped in file by file."""
    os.makedirs(scratch, exist_ok=True)
    key, csr, ext, pem = (os.path.join(scratch, f"{name}.{suffix}") for suffix in ("key", "csr", "ext", "pem"))
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-new", "-key", key, "-subj", f"/CN={name} renewed", "-out", csr],
                   check=True, capture_output=True)
    with open(ext, "w") as handle:
        handle.write(f"subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:{name}\nextendedKeyUsage=serverAuth,clientAuth\n")
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", f"{certs}/ca.pem", "-CAkey", f"{certs}/ca.key",
                    "-CAcreateserial", "-days", "30", "-extfile", ext, "-out", pem], check=True, capture_output=True)
    os.replace(pem, os.path.join(certs, f"{name}.pem"))
    os.replace(key, os.path.join(certs, f"{name}.key"))


def presented_certificate(port, certs, client="client", alpn=None):
    """The DER certificate the TLS server on 127.0.0.1:`port` presents to a client of the CA in `certs`."""
    context = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))
    context.check_hostname = False
    context.load_cert_chain(os.path.join(certs, f"{client}.pem"), os.path.join(certs, f"{client}.key"))
    if alpn:
        context.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as wrapped:
            return wrapped.getpeercert(binary_form=True)
