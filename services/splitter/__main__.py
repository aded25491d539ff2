from services.splitter.app import SERVICE
from shared.service import run

run(SERVICE)
