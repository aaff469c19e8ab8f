"""A DSM-shaped nginx tree served by Debian's real nginx, for the nginx_patches role's tests.

DSM generates /etc/nginx/nginx.conf and the reverse-proxy server blocks (DSM 7:
/etc/nginx/sites-enabled/server.ReverseProxy.conf, DSM 6: /etc/nginx/app.d/server.ReverseProxy.conf)
from templates under /usr/syno/share/nginx, and writes them again at boot, on every update and on every
reverse-proxy edit: hand edits vanish. This model keeps that layout below a root directory, regenerates
it from templates on demand (what a DSM update does; the mock DSM does it on every reverse-proxy edit
once its lab config names the tree), and runs nginx on it with `-p ROOT -c ROOT/etc/nginx/nginx.conf`
on loopback. Each reverse proxy server answers "<description> client=<address>" so tests can see which
server answered and which client address nginx believes.

  python -m tests.lab.dsm_nginx build ROOT [PORT] [--layout dsm7|dsm6]   tree, certificates, configuration
  python -m tests.lab.dsm_nginx regenerate ROOT        what a DSM update does
  python -m tests.lab.dsm_nginx start|reload|stop ROOT
  python -m tests.lab.dsm_nginx probe ROOT HOST [client]   "<status> <body>" of GET / (with CF-Connecting-IP)
  python -m tests.lab.dsm_nginx digest ROOT            fingerprint of the generated configuration
"""
