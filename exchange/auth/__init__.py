"""Who is calling and what they may do: roles and principals, access tokens, client-secret
hashing, and the one policy module that decides every permission."""
