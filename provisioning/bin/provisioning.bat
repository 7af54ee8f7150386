@echo off
rem The provisioning tool with the vendor's flags (seeds/pacing-provisioning.txt), for Windows:
rem   provisioning.bat -host H -port P [-user U -password PW] -app NAME [-overwrite] [-dry-run] [-https]
rem It runs "python -m provisioning.cli" (stdlib only) against a running Pacing Console's API.
rem Python: %PACING_PYTHON%, else the project's .venv, else python on the PATH.
setlocal
set "ROOT=%~dp0..\.."
if not defined PACING_PYTHON if exist "%ROOT%\.venv\Scripts\python.exe" set "PACING_PYTHON=%ROOT%\.venv\Scripts\python.exe"
if not defined PACING_PYTHON set "PACING_PYTHON=python"
set "PYTHONPATH=%ROOT%;%PYTHONPATH%"
"%PACING_PYTHON%" -m provisioning.cli %*
exit /b %ERRORLEVEL%
